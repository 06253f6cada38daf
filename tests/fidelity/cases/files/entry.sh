#!/bin/sh
echo entry "$@"
exec "$@"
