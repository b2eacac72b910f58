#!/bin/sh
echo "$GREETING: $(ls /var/www | wc -l) file(s) in /var/www"
