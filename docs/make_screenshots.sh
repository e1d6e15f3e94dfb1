#!/bin/sh
# Screenshots of the workstation as a reader sees it, at 1920x1080 and 1366x768:
# the real app under Xvfb (openbox as window manager), driven by xdotool (keys,
# wheel), grabbed with ImageMagick's `import`. `make screenshots` runs it.
#   docs/make_screenshots.sh [PYTHON_BIN_DIR]   (default .venv/bin)
set -eu
BIN=${1:-.venv/bin}
work=$(mktemp -d /tmp/recist-screenshots.XXXXXX)
trap 'rm -rf "$work"' EXIT
export RECIST_APP_CONFIG_DIR="$work/config" XDG_CONFIG_HOME="$work/xdg-config"
export XDG_DATA_HOME="$work/xdg-data" RECIST_APP_USER="Dr Demo Reader"
# a site read: the first start asks nothing (name and role are set)
export RECIST_APP_READER_ROLE=single
number=$((90 + $$ % 100))
for size in 1920x1080 1366x768; do
  display=":$number"; number=$((number + 1))
  Xvfb "$display" -screen 0 "${size}x24" -nolisten tcp >"$work/xvfb.log" 2>&1 &
  xvfb=$!
  sleep 1
  DISPLAY="$display" openbox >"$work/openbox.log" 2>&1 &
  wm=$!
  sleep 1
  DISPLAY="$display" "$BIN/recist-app" --demo >"$work/app.log" 2>&1 &
  app=$!
  # The window shows at once; the demo is ready when the read patient opens.
  DISPLAY="$display" xdotool search --sync --name "DEMO-HCC-001" >/dev/null
  sleep 6  # its series load in the background
  key() { DISPLAY="$display" xdotool key --delay 250 "$@"; sleep 1; }
  key ctrl+Next ctrl+Next ctrl+Next   # Week 24, the prior beside it
  if [ "$size" = 1920x1080 ]; then key ctrl+4; fi  # 2x2: prior, current, MPRs
  key period                          # T01 selected, centred everywhere
  width=${size%x*}; height=${size#*x}
  DISPLAY="$display" xdotool mousemove $((width * 45 / 100)) $((height / 2))
  DISPLAY="$display" xdotool click --repeat 2 --delay 200 5 click --repeat 2 --delay 200 4
  sleep 1
  DISPLAY="$display" import -window root "docs/workstation-$size.png"
  echo "docs/workstation-$size.png"
  kill "$app" 2>/dev/null || true
  wait "$app" 2>/dev/null || true
  if [ "$size" = 1920x1080 ]; then
    # The Auto tool: DEMO-HCC-002 read with Auto clicks and Enter at Week 8.
    DISPLAY="$display" "$BIN/python" docs/make_auto_screenshot.py \
      "docs/auto-$size.png" >"$work/auto.log" 2>&1
    echo "docs/auto-$size.png"
  fi
  kill "$wm" "$xvfb" 2>/dev/null || true
  wait "$wm" "$xvfb" 2>/dev/null || true
done
