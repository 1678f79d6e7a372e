#!/usr/bin/env bash
# Makes the local base image localhost/flow-base for the container test (no image registry is
# reachable here): a root filesystem made of this Debian host's own installed packages, the
# closure of nodejs (with npm), python3.11 (the alarm plugin), dash and coreutils, listed by
# `dpkg -L` and imported with `podman import`. Usage: .ci/container-base.sh [image name]
set -euo pipefail
IMAGE="${1:-localhost/flow-base:latest}"
PODMAN=(podman --runtime /usr/sbin/runc)
if "${PODMAN[@]}" image exists "$IMAGE"; then echo "$IMAGE exists"; exit 0; fi

ROOTS="nodejs python3-minimal python3.11 dash bash coreutils libc-bin"
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances $ROOTS | grep -v '^ ' | grep -v '^<' | sort -u)
installed=()
for p in $closure; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ]; then installed+=("$p"); fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Every path the packages installed (dirs included, so modes and merged-/usr symlinks come along),
# plus the CA bundle update-ca-certificates generated, /bin/sh, and npm as it is now (npm may
# have been upgraded in place since the nodejs package was installed).
# Paths through the merged-/usr symlinks (/bin/bash) are stored by their real place
# (usr/bin/bash), the symlinks themselves as symlinks: an image layer cannot write through a link.
{ dpkg -L "${installed[@]}" | grep "^/" ; find /usr/lib/node_modules/npm; echo /bin/sh; echo /etc/ssl/certs/ca-certificates.crt; } |
  node -e '
    const fs = require("fs"), path = require("path");
    const out = new Set();
    for (const f of fs.readFileSync(0, "utf8").split("\n")) {
      if (!f) continue;
      let real;
      try { real = path.join(fs.realpathSync(path.dirname(f)), path.basename(f)); fs.lstatSync(real); } catch { continue; }
      if (!["etc/passwd", "etc/group", "tmp", "root"].includes(real.slice(1))) out.add(real.slice(1));
    }
    process.stdout.write([...out].sort().join("\n") + "\n");
  ' > "$work/list"
tar -C / -cf "$work/rootfs.tar" --no-recursion -T "$work/list"
mkdir -p "$work/extra/etc" "$work/extra/tmp" "$work/extra/root"
printf 'root:x:0:0:root:/root:/bin/sh\nflow:x:10001:10001:flow:/app:/usr/sbin/nologin\n' > "$work/extra/etc/passwd"
printf 'root:x:0:\nflow:x:10001:\n' > "$work/extra/etc/group"
chmod 1777 "$work/extra/tmp"
tar -C "$work/extra" -rf "$work/rootfs.tar" etc/passwd etc/group tmp root
"${PODMAN[@]}" import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' "$work/rootfs.tar" "$IMAGE" >/dev/null
echo "made $IMAGE from ${#installed[@]} installed Debian packages"
