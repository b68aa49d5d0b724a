from tulpar.cli import main

main()
