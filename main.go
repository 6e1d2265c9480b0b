// Command loom runs declarative machine-learning pipelines.
package main

func main() {}
