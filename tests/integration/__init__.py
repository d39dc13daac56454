"""Each service's store against a real ClickHouse 18.16 server and chDB, the same tests on both."""
