test -f fg.txt
