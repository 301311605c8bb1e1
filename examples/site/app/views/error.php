<?php /** @var string $title @var string $message */ ?>
    <h1><?= h($title) ?></h1>
    <p><?= h($message) ?></p>
    <p><a href="/">Back to the home page</a></p>
