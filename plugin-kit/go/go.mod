module github.com/Flow/plugin-api

go 1.19

require (
	github.com/gin-gonic/gin v1.8.1
	gopkg.in/yaml.v3 v3.0.1
)
