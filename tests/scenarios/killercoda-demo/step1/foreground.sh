echo "foreground ran" > fg.txt
