import sys

from netcost.gui.app.entry import main

sys.exit(main())
