<?php /** @var ?string $name @var array $errors @var string $typedName @var string $maxUpload */ ?>
<?php if ($name !== null): ?>
    <h1>Welcome back, <?= h($name) ?>!</h1>
    <p>Your name is kept in a cookie for 30 days.</p>
    <form method="post" action="/forget">
      <button type="submit">Forget me</button>
    </form>
<?php else: ?>
    <h1>Hello, stranger!</h1>
    <p>Tell us your name and we will remember it (in a cookie).</p>
<?php endif ?>

    <section>
      <h2><?= $name === null ? 'Your name' : 'Change your name' ?></h2>
      <form method="post" action="/hello">
        <label for="name">Name</label>
        <input id="name" name="name" maxlength="50" required value="<?= h($typedName) ?>"
          <?= isset($errors['name']) ? 'aria-invalid="true"' : '' ?>>
        <button type="submit">Save</button>
<?php if (isset($errors['name'])): ?>
        <p class="error"><?= h($errors['name']) ?></p>
<?php endif ?>
      </form>
    </section>

    <section>
      <h2>Upload a file</h2>
      <p>We will tell you its size and SHA-256 (up to <?= h($maxUpload) ?>; nothing is kept).</p>
      <form method="post" action="/upload" enctype="multipart/form-data">
        <input type="file" name="file" required>
        <button type="submit">Upload</button>
<?php if (isset($errors['file'])): ?>
        <p class="error"><?= h($errors['file']) ?></p>
<?php endif ?>
      </form>
    </section>
