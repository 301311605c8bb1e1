<?php
// The worker example's one piece of state: the orders it has taken, in a JSON file under /tmp
// (ORDERS_FILE chooses another). On Lambda it lasts as long as one execution environment: a real
// app keeps its orders in a database.
declare(strict_types=1);

function orders_file(): string
{
    return getenv('ORDERS_FILE') ?: '/tmp/lambda-php-example-orders.json';
}

/** @return list<array{orderId: int, item: string, quantity: int, receivedAt: string}> */
function load_orders(): array
{
    $file = orders_file();
    if (!is_file($file)) return [];
    return json_decode((string) file_get_contents($file), true, 512, JSON_THROW_ON_ERROR)['orders'];
}

/** @param list<array<string, mixed>> $orders */
function save_orders(array $orders): void
{
    $file = orders_file();
    // Written whole and renamed into place: a reader never sees half a file.
    file_put_contents("$file.tmp", json_encode(['orders' => $orders], JSON_PRETTY_PRINT | JSON_THROW_ON_ERROR));
    rename("$file.tmp", $file);
}

/**
 * An order from a message body: {"orderId": 42, "item": "Green tea", "quantity": 2}.
 * Throws InvalidArgumentException for a body that is not such an order.
 *
 * @return array{orderId: int, item: string, quantity: int}
 */
function parse_order(string $body): array
{
    $order = json_decode($body, true);
    if (!is_array($order)) throw new InvalidArgumentException('the message body is not a JSON object');
    if (!is_int($order['orderId'] ?? null)) throw new InvalidArgumentException('"orderId" must be a whole number');
    if (!is_string($order['item'] ?? null) || $order['item'] === '') throw new InvalidArgumentException('"item" must be a non-empty string');
    if (!is_int($order['quantity'] ?? null) || $order['quantity'] < 1) throw new InvalidArgumentException('"quantity" must be a whole number of at least 1');
    return ['orderId' => $order['orderId'], 'item' => $order['item'], 'quantity' => $order['quantity']];
}
