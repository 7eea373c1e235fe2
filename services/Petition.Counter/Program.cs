using Petition.Counter;
using Petition.ServiceDefaults;

CounterApp.Create(args).RunUntilStopped();
