# SPDX-License-Identifier: MIT
# The plots of bench/run.sh (gnuplot 5). Variables, set with -e before this file:
#   out         path prefix of the PNGs (out-echo-throughput.png ...)
#   echo_dat    echo by size: size, then messages/s, MB/s, CPU s/GB for ours, then the same for hyco-ws
#   conns_ours, conns_node   idle connections: count, listener RSS KiB (both or neither)
set terminal pngcairo size 900,560 font ",10"
set grid
set key top left
sizes = '("1 KiB" 1024, "4 KiB" 4096, "16 KiB" 16384, "64 KiB" 65536, "256 KiB" 262144, "1 MiB" 1048576)'

if (exists("echo_dat")) {
  set logscale x 2
  eval 'set xtics '.sizes
  set xlabel "message size"
  set logscale y
  set output out."-echo-throughput.png"
  set title "Echo throughput by message size (8 connections, window 16, loopback, shared cores)"
  set ylabel "MB/s echoed (payload, one direction)"
  plot echo_dat using 1:3 with linespoints lw 2 pt 7 title "azrelay listen --echo", \
       echo_dat using 1:6 with linespoints lw 2 pt 5 title "hyco-ws"
  set output out."-echo-cpu-per-gb.png"
  set title "Listener CPU per GB echoed by message size (lower is better)"
  set ylabel "listener CPU seconds per GB"
  set key top right
  plot echo_dat using 1:4 with linespoints lw 2 pt 7 title "azrelay listen --echo", \
       echo_dat using 1:7 with linespoints lw 2 pt 5 title "hyco-ws"
  unset logscale x
  unset logscale y
  set xtics auto
  set key top left
}

if (exists("conns_ours")) {
  set output out."-rss-by-connections.png"
  set title "Listener resident memory by idle connection count"
  set xlabel "idle connections"
  set ylabel "RSS, MiB"
  set xrange [0:*]
  set yrange [0:*]
  plot conns_ours using 1:($2 / 1024) with linespoints lw 2 pt 7 title "azrelay listen --echo", \
       conns_node using 1:($2 / 1024) with linespoints lw 2 pt 5 title "hyco-ws"
}
