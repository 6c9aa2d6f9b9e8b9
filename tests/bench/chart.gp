# The benchmark's chart: one bar panel per figure, one bar per path.
#   gnuplot -e "data='results.dat'; out='results.png'; subtitle='...'" chart.gp
# data: a header line, then "path tcp1_ab tcp1_ba tcp4_ab udp64_pps rtt_ms"
# per path ("NA" where a run failed). Throughput panels use a log scale: the
# paths differ by orders of magnitude.
set terminal pngcairo size 1650,900 font "sans,11"
set output out
set datafile missing "NA"
set style fill solid 0.85 border -1
set boxwidth 0.7
set grid ytics
set xtics scale 0 font "sans,11"
set key off
set yrange [*:*]
set offsets 0, 0, graph 0.12, 0

set multiplot layout 2,3 title "crapvpn benchmark: ".subtitle font "sans,14"

do for [c in "2 3 4 5 6"] {
	col = int(c)
	if (col == 2) { set title "TCP, 1 stream a->b (Mbit/s)" }
	if (col == 3) { set title "TCP, 1 stream b->a (Mbit/s)" }
	if (col == 4) { set title "TCP, 4 streams a->b (Mbit/s)" }
	if (col == 5) { set title "UDP, 64-byte datagrams (received packets/s)" }
	if (col == 6) { set title "ping RTT (ms, average; lower is better)" }
	if (col == 6) { unset logscale y; set yrange [0:*] } else { set logscale y; set yrange [*:*] }
	plot data using 0:col:(0.7):(int($0) + 1) with boxes lc variable, \
		'' using 0:col:(column(col) >= 100 ? sprintf("%.0f", column(col)) : \
			sprintf("%.3g", column(col))):xtic(1) with labels offset 0,0.8
}

# The last panel: how to read the chart.
unset logscale y
unset title
unset border
unset tics
unset grid
set yrange [0:1]
set xrange [0:1]
set label 1 at 0.02,0.85 "QEMU TCG, shared host CPUs:" font "sans,12"
set label 2 at 0.02,0.72 "absolute figures are noisy and far below"
set label 3 at 0.02,0.61 "real hardware; only ratios within one run"
set label 4 at 0.02,0.50 "mean anything."
set label 5 at 0.02,0.32 "MTU: veth 1500, fou 1472, crapvpn 1464,"
set label 6 at 0.02,0.21 "wireguard 1440, userspace 1464"
set label 7 at 0.02,0.10 "(each fills a 1500-byte underlay packet)"
plot 2 with lines lc rgb "white"
unset multiplot
