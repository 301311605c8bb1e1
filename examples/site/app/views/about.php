<?php /** @var array<string, string> $facts */ ?>
    <h1>About this PHP</h1>
    <dl class="facts">
<?php foreach ($facts as $label => $value): ?>
      <dt><?= h($label) ?></dt><dd data-fact="<?= h($label) ?>"><?= h($value) ?></dd>
<?php endforeach ?>
    </dl>
