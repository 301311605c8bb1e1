<?php /** @var string $path */ ?>
    <h1>Page not found</h1>
    <p>There is nothing at <code><?= h($path) ?></code>.</p>
    <p><a href="/">Back to the home page</a></p>
