import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentRootRouter } from '../../../src/router/document-root-router.ts';

// An app whose handler is index.php at its root, so its document root also holds the event script:
//   index.php, worker.php, jobs/index.php (an event script named index.php), other.php,
//   alias.php -> worker.php, jobs-link -> jobs
let root: string;

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'hidden-scripts-')));
  for (const file of ['index.php', 'worker.php', 'jobs/index.php', 'other.php']) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), '<?php');
  }
  symlinkSync('worker.php', path.join(root, 'alias.php'));
  symlinkSync('jobs', path.join(root, 'jobs-link'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('DocumentRootRouter: hidden scripts (the event script)', () => {
  it('sends a request for the event script to the front controller, under any name', () => {
    const router = new DocumentRootRouter(root, path.join(root, 'index.php'), { hiddenScripts: [path.join(root, 'worker.php')] });
    for (const target of ['/worker.php', '/worker.php/extra', '/./worker.php', '/x/../worker.php', '/%77orker.php', '/alias.php']) {
      expect(router.route(target), target).toBe(router.frontController);
    }
    expect(router.route('/other.php')).toMatchObject({ kind: 'script', scriptName: '/other.php' });
  });

  it('hides a folder index that is the event script, reached directly or through a symlink', () => {
    const router = new DocumentRootRouter(root, path.join(root, 'index.php'), { hiddenScripts: [path.join(root, 'jobs', 'index.php')] });
    for (const target of ['/jobs', '/jobs/', '/jobs/index.php', '/jobs-link/', '/jobs-link/index.php']) {
      expect(router.route(target), target).toBe(router.frontController);
    }
    expect(router.route('/worker.php')).toMatchObject({ kind: 'script', scriptName: '/worker.php' });
  });

  it('serves every script when nothing is hidden', () => {
    const router = new DocumentRootRouter(root, path.join(root, 'index.php'));
    expect(router.route('/worker.php')).toMatchObject({ kind: 'script', scriptName: '/worker.php' });
    expect(router.route('/alias.php')).toMatchObject({ kind: 'script', scriptName: '/alias.php' });
  });

  it('does not hide the front controller itself (an app may name one script for both)', () => {
    const router = new DocumentRootRouter(root, path.join(root, 'index.php'), { hiddenScripts: [path.join(root, 'index.php')] });
    expect(router.route('/')).toMatchObject({ kind: 'script', scriptName: '/index.php' });
    // Requested by name, it runs with its PATH_INFO, as any script: a hidden one would be handed
    // the front controller's route, without it.
    expect(router.route('/index.php/extra')).toMatchObject({ kind: 'script', scriptName: '/index.php', pathInfo: '/extra' });
  });
});
