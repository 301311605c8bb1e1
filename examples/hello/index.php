<?php
// The smallest PHP app: every request reaches this front controller.
header('Content-Type: text/plain; charset=utf-8');
echo "Hello World! You've reached {$_SERVER['REQUEST_URI']}\n";
