#!/bin/bash
[ "$(greet you)" = "hello, you" ]
