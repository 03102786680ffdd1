<?php

declare(strict_types=1);

require __DIR__ . '/../vendor/autoload.php';

use App\Greeter;

header('Content-Type: text/plain; charset=utf-8');
echo (new Greeter())->greet('Toolforge'), "\n";
$db = new PDO('sqlite::memory:');
echo 'sqlite ', $db->query('select sqlite_version()')->fetchColumn(), "\n";
