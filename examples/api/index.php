<?php
declare(strict_types=1);

/**
 * A small JSON API in one file (Lambda handler: index.php).
 *
 *   GET    /               what this API offers
 *   GET    /items          all items
 *   POST   /items          create one: {"name": "Tea", "price": 3.5}   -> 201, Location: /items/{id}
 *   GET    /items/{id}     one item                                      -> 200 | 404
 *   PUT    /items/{id}     replace it (same body as POST)                -> 200 | 404 | 422
 *   DELETE /items/{id}     delete it                                     -> 204 | 404
 *
 * Errors are JSON too: {"error": "...", "message": "..."}; 400 for a body that is not JSON, 415 for
 * a body that is not sent as application/json, 422 (with "errors" per field) for invalid items,
 * 404 for unknown paths and items, 405 (with an Allow header) for a wrong method.
 *
 * State: a JSON file in the temporary directory (API_DATA_FILE to choose another). On Lambda /tmp
 * belongs to one execution environment: each concurrent copy of the function has its own items,
 * and they vanish when Lambda recycles it. Fine for a demo; use a database for real data.
 */

final class HttpError extends Exception
{
    public function __construct(
        public readonly int $status,
        public readonly string $error,
        string $message,
        public readonly array $extra = [],
    ) {
        parent::__construct($message);
    }
}

set_exception_handler(static function (Throwable $e): void {
    if ($e instanceof HttpError) {
        respond($e->status, ['error' => $e->error, 'message' => $e->getMessage()] + $e->extra);
        return;
    }
    error_log('Unhandled ' . $e::class . ': ' . $e->getMessage() . ' at ' . $e->getFile() . ':' . $e->getLine());
    respond(500, ['error' => 'internal_error', 'message' => 'Something went wrong.']);
});

function respond(int $status, mixed $data = null, array $headers = []): void
{
    http_response_code($status);
    foreach ($headers as $name => $value) {
        header("$name: $value");
    }
    if ($status === 204) {
        return;
    }
    header('Content-Type: application/json');
    echo json_encode($data, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR), "\n";
}

/** Reads and decodes the JSON request body; it must be a JSON object. */
function json_body(): array
{
    $type = strtolower(trim(explode(';', $_SERVER['CONTENT_TYPE'] ?? '')[0]));
    if ($type !== 'application/json') {
        throw new HttpError(415, 'unsupported_media_type', 'Send the body as application/json.');
    }
    try {
        $data = json_decode((string) file_get_contents('php://input'), true, 32, JSON_THROW_ON_ERROR);
    } catch (JsonException $e) {
        throw new HttpError(400, 'invalid_json', 'The body is not valid JSON: ' . $e->getMessage());
    }
    if (!is_array($data) || (array_is_list($data) && $data !== [])) {
        throw new HttpError(400, 'invalid_json', 'The body must be a JSON object.');
    }
    return $data;
}

/** Checks an item sent by the client; returns the clean item or throws 422 with every problem. */
function validate_item(array $input): array
{
    $errors = [];
    $name = $input['name'] ?? null;
    if (!is_string($name) || trim($name) === '') {
        $errors['name'] = 'Required: a non-empty string.';
    } elseif (preg_match('/^.{1,100}$/us', trim($name)) !== 1) {
        $errors['name'] = 'At most 100 characters.';
    }
    $price = $input['price'] ?? null;
    if (!is_int($price) && !is_float($price)) {
        $errors['price'] = 'Required: a number.';
    } elseif ($price < 0) {
        $errors['price'] = 'Must be zero or more.';
    }
    $unknown = array_diff(array_keys($input), ['name', 'price']);
    foreach ($unknown as $field) {
        $errors[(string) $field] = 'Unknown field.';
    }
    if ($errors) {
        throw new HttpError(422, 'validation_failed', 'The item is not valid.', ['errors' => $errors]);
    }
    return ['name' => trim($name), 'price' => $price];
}

/**
 * The item store: one JSON file, {"next_id": 3, "items": {"1": {...}, "2": {...}}}. Reads share a
 * lock on the file and changes hold it alone, so two requests never interleave a read and a write.
 */
final class ItemStore
{
    public function __construct(private readonly string $file)
    {
    }

    public function read(): array
    {
        return $this->locked(LOCK_SH, static fn (array $data) => [null, $data]);
    }

    /**
     * Runs $change on the data and saves the data it returns.
     * @param callable(array): array{0: array, 1: mixed} $change returns [new data, result]
     */
    public function update(callable $change): mixed
    {
        return $this->locked(LOCK_EX, $change);
    }

    private function locked(int $lock, callable $use): mixed
    {
        $handle = fopen($this->file, 'c+');
        if ($handle === false) {
            throw new RuntimeException("Cannot open {$this->file}");
        }
        try {
            flock($handle, $lock);
            $text = stream_get_contents($handle);
            $data = $text ? json_decode($text, true, 512, JSON_THROW_ON_ERROR) : ['next_id' => 1, 'items' => []];
            [$changed, $result] = $use($data);
            if ($changed !== null) {
                ftruncate($handle, 0);
                rewind($handle);
                fwrite($handle, json_encode($changed, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR));
                fflush($handle);
            }
            return $result;
        } finally {
            flock($handle, LOCK_UN);
            fclose($handle);
        }
    }
}

function item_out(int $id, array $item): array
{
    return ['id' => $id] + $item;
}

// --- Routing --------------------------------------------------------------------------------

$dataFile = getenv('API_DATA_FILE') ?: sys_get_temp_dir() . '/lambda-php-example-api.json';
$store = new ItemStore($dataFile);
$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/';
$path = $path === '/' ? '/' : rtrim($path, '/');

/** Answers 405, with the Allow header, unless the method is one of $allowed (HEAD counts as GET). */
$allow = static function (string ...$allowed) use ($method): void {
    if (!in_array($method === 'HEAD' ? 'GET' : $method, $allowed, true)) {
        header('Allow: ' . implode(', ', $allowed));
        throw new HttpError(405, 'method_not_allowed', "$method is not allowed here. Allowed: " . implode(', ', $allowed) . '.');
    }
};

if ($path === '/') {
    $allow('GET');
    respond(200, [
        'name' => 'Example items API',
        'endpoints' => ['GET /items', 'POST /items', 'GET /items/{id}', 'PUT /items/{id}', 'DELETE /items/{id}'],
        // Where the items are kept: under `serve`, on the host's /tmp, across restarts.
        'data_file' => $dataFile,
    ]);
} elseif ($path === '/items') {
    $allow('GET', 'POST');
    if ($method === 'POST') {
        $item = validate_item(json_body());
        $id = $store->update(static function (array $data) use ($item): array {
            $id = $data['next_id']++;
            $data['items'][(string) $id] = $item;
            return [$data, $id];
        });
        respond(201, item_out($id, $item), ['Location' => "/items/$id"]);
    } else {
        $items = [];
        foreach ($store->read()['items'] as $id => $item) {
            $items[] = item_out((int) $id, $item);
        }
        respond(200, ['items' => $items, 'count' => count($items)]);
    }
} elseif (preg_match('#^/items/([1-9][0-9]{0,17})$#', $path, $m) === 1) {
    $allow('GET', 'PUT', 'DELETE');
    $id = (int) $m[1];
    $key = (string) $id;
    if ($method === 'PUT') {
        $item = validate_item(json_body());
        $found = $store->update(static function (array $data) use ($key, $item): array {
            if (!isset($data['items'][$key])) {
                return [null, false];
            }
            $data['items'][$key] = $item;
            return [$data, true];
        });
        $found ? respond(200, item_out($id, $item)) : throw new HttpError(404, 'not_found', "There is no item $id.");
    } elseif ($method === 'DELETE') {
        $found = $store->update(static function (array $data) use ($key): array {
            if (!isset($data['items'][$key])) {
                return [null, false];
            }
            unset($data['items'][$key]);
            return [$data, true];
        });
        $found ? respond(204) : throw new HttpError(404, 'not_found', "There is no item $id.");
    } else {
        $item = $store->read()['items'][$key] ?? throw new HttpError(404, 'not_found', "There is no item $id.");
        respond(200, item_out($id, $item));
    }
} else {
    throw new HttpError(404, 'not_found', "Nothing here: $path.");
}
