#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-all.sh - another name for scripts/test.sh, which builds usnet and runs
# every test suite (unit, fuzz replay, simulator, fuzzers, interop as root).
exec bash "$(dirname "$0")/../scripts/test.sh" "$@"
