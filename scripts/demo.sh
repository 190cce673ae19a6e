#!/usr/bin/env bash
# Placeholder: the end-to-end demo is not written yet. Fail so nobody mistakes this for a working demo.
echo "demo not yet implemented" >&2
exit 1
