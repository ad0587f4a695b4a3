module github.com/deepcorpus/kvstore

go 1.22
