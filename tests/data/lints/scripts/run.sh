#!/bin/sh
# Lint-test helper: DIP125 finds this script relative to the workflow file.
echo ok
