module slipway.local/bench/loadgen

go 1.26
