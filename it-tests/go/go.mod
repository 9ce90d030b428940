module discoverd.io/it/gobclient

go 1.19
