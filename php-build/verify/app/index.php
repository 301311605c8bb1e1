<?php
// verify-layer.sh, end to end: the bootstrap serves this through the mock Runtime API.
header('Content-Type: text/plain');
echo "lambda-php-verify-ok\n";
echo "method=", $_SERVER['REQUEST_METHOD'], " name=", $_POST['name'] ?? $_GET['name'] ?? '', "\n";
echo "ini=", php_ini_loaded_file(), " memory_limit=", ini_get('memory_limit'), "\n";
// The php-cgi serving: in FastCGI mode the one the layer's start script started (early-php-cgi.sh).
echo "cgi=", str_replace("\0", ' ', trim((string) @file_get_contents('/proc/self/cmdline'), "\0")), "\n";
