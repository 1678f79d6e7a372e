// The module path flow-plugin build-go copies the package to (Gotify plugins carry one too).
module github.com/flow/plugins/echo-go

go 1.19
