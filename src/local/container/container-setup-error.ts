/**
 * A container could not be set up for a reason the user can act on (a base image that is missing
 * and cannot be pulled, no Docker engine): its message is one line saying what to do, and the CLI
 * prints it alone, without a stack trace.
 */
export class ContainerSetupError extends Error {
  override name = 'ContainerSetupError';
}
