from handlers.main import main

raise SystemExit(main())
