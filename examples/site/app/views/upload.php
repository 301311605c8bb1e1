<?php /** @var string $name @var int $size @var string $sha256 @var string $clientType @var ?string $detectedType */ ?>
    <h1>Upload received</h1>
    <dl class="facts">
      <dt>File name</dt><dd class="file-name"><?= h($name) ?></dd>
      <dt>Size</dt><dd class="file-size"><?= h($size) ?> bytes (<?= h(format_bytes($size)) ?>)</dd>
      <dt>Type (sent by the browser)</dt><dd><?= h($clientType !== '' ? $clientType : 'none') ?></dd>
<?php if ($detectedType !== null): ?>
      <dt>Type (detected by PHP)</dt><dd><?= h($detectedType) ?></dd>
<?php endif ?>
      <dt>SHA-256</dt><dd class="sha256"><code><?= h($sha256) ?></code></dd>
    </dl>
    <p>The file was deleted when this request ended: PHP removes uploads it did not move.</p>
    <p><a href="/">Upload another file</a></p>
