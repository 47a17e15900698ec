#!/bin/bash
test -f prepared.txt && echo "background ran" > background.txt
