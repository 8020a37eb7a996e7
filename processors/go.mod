module github.com/tributary-io/tributary/processors

go 1.26.0

replace github.com/tributary-io/tributary/schemas => ../schemas

replace github.com/tributary-io/tributary/infra => ../infra
