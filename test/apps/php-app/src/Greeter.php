<?php

declare(strict_types=1);

namespace App;

final class Greeter
{
    public function greet(string $name): string
    {
        return sprintf('Hello, %s, from PHP %s (%d extensions)', mb_strtoupper($name), PHP_VERSION, count(get_loaded_extensions()));
    }
}
