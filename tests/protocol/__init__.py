"""Protocol tests: botocore is the oracle for our wire codecs."""
