<?php
// verify-layer.sh, check 3: php-cgi run as a CGI program with the layer's settings, in the
// glibc-only base. One line per check: "ok   <name>" or "FAIL <name>: <detail>".
$checks = [
  'php.ini is the layer one' => fn () => php_ini_loaded_file() === '/opt/php/php.ini',
  'function conf.d scanned last' => fn () => ini_get('memory_limit') === '96M',
  'display_errors off' => fn () => !ini_get('display_errors'),
  'log_errors on' => fn () => (bool) ini_get('log_errors'),
  'error_log unset (stderr)' => fn () => ini_get('error_log') === '' || ini_get('error_log') === false,
  'cgi.fix_pathinfo 0' => fn () => ini_get('cgi.fix_pathinfo') === '0',
  'opcache enabled' => fn () => function_exists('opcache_get_status') && (opcache_get_status(false)['opcache_enabled'] ?? false),
  'sys_temp_dir /tmp' => fn () => sys_get_temp_dir() === '/tmp',
  'getenv sees the function env' => fn () => getenv('LAMBDA_TASK_ROOT') === '/var/task' && ($_ENV['LAMBDA_TASK_ROOT'] ?? '') === '/var/task',
  // The base has no /usr/share/zoneinfo: PHP reads the layer's copy.
  'no zoneinfo on the base' => fn () => !file_exists('/usr/share/zoneinfo'),
  'time zones from the layer (Europe/Paris, summer)' => fn () => (new DateTime('2024-07-01 12:00', new DateTimeZone('Europe/Paris')))->format('c T') === '2024-07-01T12:00:00+02:00 CEST',
  'date() in Europe/Paris' => function () { date_default_timezone_set('Europe/Paris'); $r = date('Y-m-d H:i T', 1704110400); date_default_timezone_set('UTC'); return $r === '2024-01-01 13:00 CET'; },
  'a legacy zone name (US/Eastern)' => fn () => (new DateTimeZone('US/Eastern'))->getName() === 'US/Eastern',
  'iconv to ISO-8859-1 (gconv module)' => fn () => iconv('UTF-8', 'ISO-8859-1', 'é') === "\xE9",
  'iconv to WINDOWS-1251 (gconv module)' => fn () => iconv('UTF-8', 'WINDOWS-1251', 'Жж') === "\xC6\xE6",
  'iconv //TRANSLIT' => fn () => iconv('UTF-8', 'ASCII//TRANSLIT', '€') === 'EUR',
  // Every shared object in this process is the layer's: glibc, the libraries, the extensions and
  // the gconv modules iconv just loaded (the base's /lib64 and /usr/lib64 come first in
  // LD_LIBRARY_PATH).
  "the process maps only the layer's shared objects" => function () {
    $objects = array_unique(array_filter(array_map(fn ($line) => preg_split('/\s+/', trim($line), 6)[5] ?? '', file('/proc/self/maps')), fn ($file) => str_contains($file, '.so')));
    $outside = array_filter($objects, fn ($file) => !str_starts_with($file, '/opt/php/'));
    return $outside === [] && in_array('/opt/php/lib/libc.so.6', $objects, true) && count(preg_grep('#^/opt/php/lib/gconv/#', $objects)) > 0 ?: implode(', ', $outside ?: $objects);
  },
  'exec /bin/echo (a static child)' => fn () => exec('/bin/echo child-ok') === 'child-ok',
  // glibc's iconv program is dynamic, on the BASE's glibc, with its own gconv modules: nothing of
  // the layer's reaches it.
  "a child on the system's glibc (iconv to ISO-8859-2)" => fn () => shell_exec("printf '\\305\\276' | /usr/bin/iconv -f UTF-8 -t ISO-8859-2") === "\xBE" && getenv('GCONV_PATH') === false,
  'DNS: localhost' => fn () => in_array(gethostbyname('localhost'), ['127.0.0.1', '::1'], true),
  'CA bundle configured' => fn () => ini_get('openssl.cafile') === '/opt/php/ssl/ca-certificates.crt' && is_file(ini_get('openssl.cafile')) && ini_get('curl.cainfo') === ini_get('openssl.cafile') && getenv('SSL_CERT_FILE') === ini_get('openssl.cafile'),
  'C.UTF-8 locale (built into glibc)' => fn () => setlocale(LC_ALL, 'C.UTF-8') === 'C.UTF-8' && setlocale(LC_ALL, 'C') === 'C',
  'fileinfo (bundled magic database)' => fn () => (new finfo(FILEINFO_MIME_TYPE))->buffer(base64_decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')) === 'image/png',
  'mbstring' => fn () => mb_strtoupper('été') === 'ÉTÉ' && mb_convert_encoding('日本', 'SJIS-win', 'UTF-8') === "\x93\xFA\x96\x7B",
  'pdo_sqlite' => fn () => (new PDO('sqlite::memory:'))->query('select sqlite_version() >= "3.45"')->fetchColumn() == 1,
  'sodium' => function () { $k = sodium_crypto_secretbox_keygen(); $n = random_bytes(24); return sodium_crypto_secretbox_open(sodium_crypto_secretbox('x', $n, $k), $n, $k) === 'x'; },
  'zip' => function () { $f = tempnam('/tmp', 'z'); $z = new ZipArchive(); $z->open($f, ZipArchive::OVERWRITE); $z->addFromString('a', 'b'); $z->close(); $z->open($f); $r = $z->getFromName('a'); unlink($f); return $r === 'b'; },
  'dom/simplexml/xsl' => function () {
    $xsl = new XSLTProcessor();
    $xsl->importStylesheet(simplexml_load_string('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:output method="text"/><xsl:template match="/">n=<xsl:value-of select="a/b"/></xsl:template></xsl:stylesheet>'));
    return (string) simplexml_load_string('<a><b>1</b></a>')->b === '1' && trim($xsl->transformToXml(dom_import_simplexml(simplexml_load_string('<a><b>7</b></a>'))->ownerDocument)) === 'n=7';
  },
  'bcmath' => fn () => bcadd('1.5', '2.25', 2) === '3.75',
  'openssl' => fn () => strlen(openssl_random_pseudo_bytes(8)) === 8 && openssl_digest('a', 'sha256') !== false && str_starts_with(OPENSSL_VERSION_TEXT, 'OpenSSL 3'),
  'curl (OpenSSL, HTTP/2)' => fn () => str_starts_with(curl_version()['ssl_version'], 'OpenSSL/3') && (curl_version()['features'] & CURL_VERSION_HTTP2) !== 0,
  'posix' => fn () => posix_getuid() === 993,
  'json' => fn () => json_decode('{"a":[1]}', true) === ['a' => [1]],
];
// The add-ons, when their layer is attached.
if (extension_loaded('intl')) $checks['intl (ICU data, de_DE)'] = fn () => (new NumberFormatter('de_DE', NumberFormatter::DECIMAL))->format(1234.5) === '1.234,5';
if (extension_loaded('gd')) $checks['gd (PNG, JPEG, WebP, FreeType)'] = function () {
  $i = imagecreatetruecolor(4, 4);
  foreach (['imagepng' => "\x89PNG", 'imagejpeg' => "\xFF\xD8", 'imagewebp' => 'RIFF'] as $write => $magic) { ob_start(); $write($i); if (!str_starts_with(ob_get_clean(), $magic)) return false; }
  return (gd_info()['FreeType Support'] ?? false) === true;
};
trigger_error('verify-layer warning on stderr', E_USER_WARNING);
header('Content-Type: text/plain');
foreach ($checks as $name => $check) {
  // A check passes with true; anything else fails, a string saying why.
  try { $result = $check(); $passed = $result === true; $detail = is_string($result) ? ": $result" : ''; } catch (Throwable $e) { $passed = false; $detail = ': ' . get_class($e) . ' ' . $e->getMessage(); }
  echo $passed ? "ok   " : "FAIL ", $name, $detail, "\n";
}
echo "smoke-done\n";
