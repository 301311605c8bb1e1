<?php
declare(strict_types=1);

/**
 * The few helpers the site needs: escaping, templates, redirects. Plain PHP, no framework.
 * This folder sits outside public/, the document root: none of it can be requested directly.
 */

const VIEWS_DIR = __DIR__ . '/views';
const NAME_COOKIE = 'visitor_name';

/** Escapes a value for HTML text and attributes. Everything printed in a view goes through it. */
function h(string|int|float|null $value): string
{
    return htmlspecialchars((string) $value, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
}

/** Renders views/<view>.php inside views/layout.php, with the given variables and status code. */
function render(string $view, array $vars = [], int $status = 200): void
{
    http_response_code($status);
    header('Content-Type: text/html; charset=utf-8');
    $title = $vars['title'] ?? 'PHP on Lambda';
    $content = (static function (string $__file, array $__vars): string {
        extract($__vars, EXTR_SKIP);
        ob_start();
        require $__file;
        return (string) ob_get_clean();
    })(VIEWS_DIR . "/$view.php", $vars);
    require VIEWS_DIR . '/layout.php';
}

/** 303 See Other: after a POST, the browser follows with a GET (Post/Redirect/Get). */
function redirect(string $location, int $status = 303): void
{
    header('Location: ' . $location, true, $status);
}

/** True when the client reached us over HTTPS (Function URLs and API Gateway always are). */
function is_https(): bool
{
    return ($_SERVER['HTTPS'] ?? '') === 'on';
}

/** The request path, decoded, without the query string: '/upload'. */
function request_path(): string
{
    $path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
    $path = is_string($path) ? rawurldecode($path) : '/';
    return $path === '/' ? '/' : rtrim($path, '/');
}

function visitor_name(): ?string
{
    $name = $_COOKIE[NAME_COOKIE] ?? null;
    return is_string($name) && $name !== '' ? $name : null;
}

function format_bytes(int $bytes): string
{
    foreach (['bytes', 'KiB', 'MiB'] as $i => $unit) {
        if ($bytes < 1024 ** ($i + 1) || $unit === 'MiB') {
            return $i === 0 ? "$bytes $unit" : sprintf('%.1f %s', $bytes / 1024 ** $i, $unit);
        }
    }
    return "$bytes bytes";
}
