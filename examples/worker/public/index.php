<?php
// The function's web front controller (its handler, public/index.php): the same function answers
// HTTP requests too. It shows what the worker has taken so far.
declare(strict_types=1);
require __DIR__ . '/../src/orders.php';

$orders = load_orders();
header('Content-Type: application/json');
echo json_encode(['orders' => count($orders), 'last' => $orders === [] ? null : end($orders)], JSON_PRETTY_PRINT), "\n";
