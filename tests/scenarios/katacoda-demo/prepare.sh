echo "prepared" > prepared.txt
