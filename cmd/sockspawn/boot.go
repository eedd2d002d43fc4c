package main

// cmdBoot is `sockspawn boot NAME [OPTIONS]`.
func cmdBoot(args []string) int {
	return errorf("boot: not implemented yet")
}

// cmdNew is `sockspawn new NAME ...`.
func cmdNew(args []string) int {
	return errorf("new: not implemented yet")
}

// cmdCat is `sockspawn cat NAME`.
func cmdCat(args []string) int {
	return errorf("cat: not implemented yet")
}
