import NetcDriver

Netc.main()
