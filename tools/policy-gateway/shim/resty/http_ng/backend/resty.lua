--- Stand-in for APIcast's cosocket HTTP backend; the shim's backend client always uses cosockets.
return { name = 'resty' }
