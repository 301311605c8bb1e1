<?php
declare(strict_types=1);

/**
 * Front controller of the example site (Lambda handler: public/index.php).
 *
 * public/ is the document root: existing files in it (style.css) are served as they are, and every
 * other path reaches this script, which routes on method and path.
 *
 *   GET  /        the home page: a greeting form and an upload form
 *   POST /hello   remembers the visitor's name in a cookie, then redirects (Post/Redirect/Get)
 *   POST /forget  forgets it
 *   POST /upload  reports the uploaded file's name, size, type and SHA-256
 *   GET  /about   what PHP this is running on
 *   anything else a 404 page (405 for a known path with the wrong method)
 */

require __DIR__ . '/../app/helpers.php';

$routes = [
    '/' => ['GET' => 'home_page'],
    '/hello' => ['POST' => 'save_name'],
    '/forget' => ['POST' => 'forget_name'],
    '/upload' => ['POST' => 'receive_upload'],
    '/about' => ['GET' => 'about_page'],
];

$path = request_path();
$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
// HEAD is a GET without the body (PHP drops the body itself).
$lookup = $method === 'HEAD' ? 'GET' : $method;

if (!isset($routes[$path])) {
    render('not-found', ['title' => 'Page not found', 'path' => $path], 404);
} elseif (!isset($routes[$path][$lookup])) {
    header('Allow: ' . implode(', ', array_keys($routes[$path])));
    render('error', ['title' => 'Method not allowed', 'message' => "$path does not accept $method requests."], 405);
} else {
    $routes[$path][$lookup]();
}

function home_page(array $errors = [], string $typedName = '', int $status = 200): void
{
    render('home', [
        'title' => 'PHP on Lambda',
        'name' => visitor_name(),
        'errors' => $errors,
        'typedName' => $typedName,
        'maxUpload' => ini_get('upload_max_filesize'),
    ], $status);
}

function save_name(): void
{
    $name = trim((string) ($_POST['name'] ?? ''));
    $errors = [];
    if ($name === '') {
        $errors['name'] = 'Please tell us your name.';
    } elseif (preg_match('/^.{1,50}$/us', $name) !== 1) {
        // (preg_match with /u also refuses bytes that are not valid UTF-8.)
        $errors['name'] = 'Please use at most 50 characters.';
    }
    if ($errors) {
        // Invalid input: show the form again with the message, no redirect.
        home_page($errors, $name, 422);
        return;
    }
    setcookie(NAME_COOKIE, $name, [
        'expires' => time() + 30 * 24 * 3600,
        'path' => '/',
        'secure' => is_https(),
        'httponly' => true,
        'samesite' => 'Lax',
    ]);
    redirect('/');
}

function forget_name(): void
{
    setcookie(NAME_COOKIE, '', ['expires' => 1, 'path' => '/', 'secure' => is_https(), 'httponly' => true, 'samesite' => 'Lax']);
    redirect('/');
}

function receive_upload(): void
{
    $file = $_FILES['file'] ?? null;
    if ($file === null && $_POST === [] && (int) ($_SERVER['CONTENT_LENGTH'] ?? 0) > 0) {
        // Over post_max_size, PHP drops the whole body: nothing arrives in $_POST or $_FILES.
        render('error', ['title' => 'Too large', 'message' => 'The upload is larger than ' . ini_get('post_max_size') . '.'], 413);
        return;
    }
    $error = is_array($file) && !is_array($file['error']) ? $file['error'] : UPLOAD_ERR_NO_FILE;
    if ($error === UPLOAD_ERR_INI_SIZE || $error === UPLOAD_ERR_FORM_SIZE) {
        render('error', ['title' => 'Too large', 'message' => 'The file is larger than ' . ini_get('upload_max_filesize') . '.'], 413);
        return;
    }
    if ($error === UPLOAD_ERR_NO_FILE || ($error === UPLOAD_ERR_OK && $file['name'] === '')) {
        home_page(['file' => 'Please choose a file to upload.'], '', 422);
        return;
    }
    if ($error !== UPLOAD_ERR_OK || !is_uploaded_file($file['tmp_name'])) {
        render('error', ['title' => 'Upload failed', 'message' => "The upload failed (PHP upload error $error)."], 400);
        return;
    }
    $tmp = $file['tmp_name'];
    $detected = class_exists(finfo::class) ? (new finfo(FILEINFO_MIME_TYPE))->file($tmp) : false;
    render('upload', [
        'title' => 'Upload received',
        'name' => basename($file['name']),
        'size' => filesize($tmp),
        'sha256' => hash_file('sha256', $tmp),
        'clientType' => $file['type'],
        'detectedType' => $detected ?: null,
    ]);
}

function about_page(): void
{
    render('about', [
        'title' => 'About this PHP',
        'facts' => [
            'PHP version' => PHP_VERSION,
            'Server API' => PHP_SAPI,
            'PHP_CGI_MODE' => getenv('PHP_CGI_MODE') ?: 'fastcgi (default)',
            'Lambda function' => getenv('AWS_LAMBDA_FUNCTION_NAME') ?: '(not on Lambda)',
            'Memory size' => (getenv('AWS_LAMBDA_FUNCTION_MEMORY_SIZE') ?: '?') . ' MB',
            'Request id' => $_SERVER['LAMBDA_REQUEST_ID'] ?? '',
            'upload_max_filesize' => ini_get('upload_max_filesize'),
            'post_max_size' => ini_get('post_max_size'),
            'memory_limit' => ini_get('memory_limit'),
            'OPcache' => function_exists('opcache_get_status') && @opcache_get_status(false) ? 'on' : 'off',
            'Extensions' => implode(', ', get_loaded_extensions()),
        ],
    ]);
}
