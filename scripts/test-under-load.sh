#!/bin/sh
# Runs the whole suite (`npm test`, niced) beside two CPU-bound processes, as a busy CI runner
# or a laptop building something else would: every test must still pass. See test/README.md
# "Under load". Extra arguments go to vitest (e.g. a path to run one suite under load).
#
#   scripts/test-under-load.sh                 # the whole suite
#   scripts/test-under-load.sh test/e2e/hostile-stallers.test.ts
set -u
cd "$(dirname "$0")/.."
# The burners run at the suite's priority (both niced, as the suite is run on a shared machine):
# a burner at nice 0 beside a niced suite gets ten times its CPU share, which is a machine ten
# times slower, not one whose cores are busy.
nice node -e 'for(;;){}' & A=$!
nice node -e 'for(;;){}' & B=$!
# Only the two burners this script started are ended, by pid.
trap 'kill $A $B 2>/dev/null' EXIT INT TERM
echo "under load: CPU burners $A $B; $(date -u '+%F %T UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $# -gt 0 ]; then
  nice npx vitest run "$@"
else
  nice npm test
fi
status=$?
echo "under load: done with status $status; $(date -u '+%F %T UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
