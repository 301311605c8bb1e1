<?php
// verify-layer.sh, end to end: the bootstrap serves this through the mock Runtime API.
header('Content-Type: text/plain');
echo "lambda-php-verify-ok\n";
echo "method=", $_SERVER['REQUEST_METHOD'], " name=", $_POST['name'] ?? $_GET['name'] ?? '', "\n";
echo "ini=", php_ini_loaded_file(), " memory_limit=", ini_get('memory_limit'), "\n";
