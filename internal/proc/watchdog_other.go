//go:build !unix

package proc

func watch(byte, int) {}
