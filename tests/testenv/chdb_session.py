"""A chDB session (ClickHouse 26.x in-process) driven over stdin/stdout.

One JSON request per line: {"sql": "..."}; one JSON reply per line:
{"out": "<TabSeparated result>"} or {"error": "<message>"}. The first
argument is the session's data folder. Started by testenv.Modern.
"""
import json
import sys

from chdb import session


def main():
    s = session.Session(sys.argv[1])
    # Fixtures and expectations are in UTC whatever the machine's zone.
    s.query("SET session_timezone = 'UTC'", "TSV")
    for line in sys.stdin:
        req = json.loads(line)
        try:
            res = s.query(req["sql"], "TabSeparated")
            reply = {"out": "" if res is None else str(res)}
        except Exception as e:  # every engine error goes back to the test
            reply = {"error": str(e)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
