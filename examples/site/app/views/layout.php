<?php /** @var string $title @var string $content */ ?>
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title><?= h($title) ?></title>
  <link rel="stylesheet" href="/style.css">
</head>
<body>
  <header>
    <a class="brand" href="/">PHP on Lambda</a>
    <nav><a href="/">Home</a> <a href="/about">About</a></nav>
  </header>
  <main>
<?= $content ?>
  </main>
  <footer>Served by php-cgi <?= h(PHP_VERSION) ?> through the Lambda PHP runtime.</footer>
</body>
</html>
