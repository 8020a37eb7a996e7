module github.com/tributary-io/tributary/processors

go 1.26.0

require (
	github.com/tributary-io/tributary/infra v0.0.0
	github.com/tributary-io/tributary/schemas v0.0.0
)

replace github.com/tributary-io/tributary/schemas => ../schemas

replace github.com/tributary-io/tributary/infra => ../infra
