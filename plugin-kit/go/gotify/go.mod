module github.com/gotify/plugin-api

go 1.19

require github.com/Flow/plugin-api v1.0.0
