#!/bin/bash
test -f demo/greeting && test -f background.txt
