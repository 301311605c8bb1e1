<?php
// The function's event script (PHP_EVENT_HANDLER=worker.php): every event that is not an HTTP
// request comes here, as a POST whose body is the event's JSON. $_SERVER['LAMBDA_EVENT_SOURCE']
// says where it came from. What this script prints is the invocation's result.
declare(strict_types=1);
require __DIR__ . '/src/orders.php';

$event = json_decode(file_get_contents('php://input'), true, 512, JSON_THROW_ON_ERROR);
$source = $_SERVER['LAMBDA_EVENT_SOURCE'];

if ($source === 'aws:sqs') {
    echo json_encode(take_orders($event['Records']));
} elseif ($source === 'aws:events' && $event['detail-type'] === 'Scheduled Event') {
    echo json_encode(daily_report($event));
} elseif ($source === 'direct') {
    // `aws lambda invoke --payload '{"orderId": 1001}'`, an SDK call, a Step Functions task.
    echo json_encode(find_order($event));
} else {
    // A status of 400 or more fails the invocation; Lambda-Error-Type names the error.
    http_response_code(400);
    header('Lambda-Error-Type: UnhandledEventSource');
    $what = $source === 'aws:events' ? "\"{$event['detail-type']}\" events" : "$source events";
    echo "worker.php takes SQS messages, scheduled events and direct invocations, not $what";
}

/**
 * An SQS batch: each message is an order. A message that is not a valid order is reported in
 * batchItemFailures (the event source mapping needs ReportBatchItemFailures): SQS deletes the
 * others and delivers that one again, until its queue's redrive policy moves it aside.
 *
 * @param list<array<string, mixed>> $records
 * @return array{batchItemFailures: list<array{itemIdentifier: string}>}
 */
function take_orders(array $records): array
{
    $orders = load_orders();
    $failures = [];
    foreach ($records as $record) {
        try {
            $orders[] = parse_order($record['body']) + ['receivedAt' => gmdate('c')];
        } catch (InvalidArgumentException $e) {
            // error_log() lines reach CloudWatch with the invocation's request id.
            error_log("message {$record['messageId']} rejected: {$e->getMessage()}");
            $failures[] = ['itemIdentifier' => $record['messageId']];
        }
    }
    save_orders($orders);
    return ['batchItemFailures' => $failures];
}

/**
 * A direct invocation asking for one order: {"orderId": 1001}.
 *
 * @return array<string, mixed>
 */
function find_order(mixed $event): array
{
    $id = is_array($event) ? ($event['orderId'] ?? null) : null;
    foreach (load_orders() as $order) {
        if ($order['orderId'] === $id) return $order;
    }
    http_response_code(404);
    header('Lambda-Error-Type: OrderNotFound');
    exit(is_int($id) ? "no order $id" : 'a direct invocation asks for {"orderId": <number>}');
}

/**
 * A scheduled event (an EventBridge rule or schedule, e.g. cron(0 6 * * ? *)): a report of the
 * orders taken so far, in the log and as the result.
 *
 * @param array<string, mixed> $event
 * @return array<string, mixed>
 */
function daily_report(array $event): array
{
    $orders = load_orders();
    $items = [];
    foreach ($orders as $order) $items[$order['item']] = ($items[$order['item']] ?? 0) + $order['quantity'];
    arsort($items);
    $report = ['job' => 'daily-report', 'scheduledAt' => $event['time'] ?? null, 'orders' => count($orders), 'items' => $items];
    error_log('daily report: ' . json_encode($report));
    return $report;
}
